import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/doctor/payments",
  access: "doctor",
  component: lazy(() => import("./DoctorPaymentsPage")),
  nav: { order: 35, label: { en: "Payments", fr: "Paiements" } },
});
