import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/stats",
  access: "doctor",
  component: lazy(() => import("./DoctorStatsPage")),
  nav: { order: 60, label: { en: "My figures", fr: "Mes chiffres" } },
});
