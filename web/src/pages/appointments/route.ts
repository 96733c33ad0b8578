import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/appointments",
  access: "patient",
  component: lazy(() => import("./AppointmentsPage")),
  nav: { order: 20, label: { en: "My appointments", fr: "Mes rendez-vous" } },
});
