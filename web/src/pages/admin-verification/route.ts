import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/admin/verification",
  access: "admin",
  component: lazy(() => import("./VerificationPage")),
});
