import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/relatives",
  access: "patient",
  component: lazy(() => import("./RelativesPage")),
  nav: { order: 45, label: { en: "My relatives", fr: "Mes proches" } },
});
