import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/agenda/appointments/:id",
  access: "doctor",
  component: lazy(() => import("./AppointmentDetailPage")),
});
