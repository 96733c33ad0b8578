import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/agenda",
  access: "doctor",
  component: lazy(() => import("./AgendaPage")),
  nav: { order: 10, label: { en: "Agenda", fr: "Agenda" } },
});
