import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/admin/analytics",
  access: "admin",
  component: lazy(() => import("./AdminAnalyticsPage")),
});
