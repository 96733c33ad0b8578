import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/admin/users",
  access: "admin",
  component: lazy(() => import("./AdminUsersPage")),
  nav: { order: 90, label: { en: "Admin", fr: "Administration" } },
});
