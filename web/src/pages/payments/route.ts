import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/payments",
  access: "patient",
  component: lazy(() => import("./PaymentsPage")),
  nav: { order: 25, label: { en: "My payments", fr: "Mes paiements" } },
});
