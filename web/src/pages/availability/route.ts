import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/availability",
  access: "doctor",
  component: lazy(() => import("./AvailabilityPage")),
  nav: { order: 30, label: { en: "Availability", fr: "Disponibilités" } },
});
