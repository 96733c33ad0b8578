import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/calendar-link",
  access: "signed-in",
  component: lazy(() => import("./CalendarLinkPage")),
  nav: { order: 70, label: { en: "Calendar", fr: "Agenda externe" } },
});
