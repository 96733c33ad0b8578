import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/settings/notifications",
  access: "signed-in",
  component: lazy(() => import("./NotificationSettingsPage")),
});
