import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/admin/dev-mailbox",
  access: "admin",
  component: lazy(() => import("./DevMailboxPage")),
  nav: { order: 90, label: { en: "Dev mailbox", fr: "Boîte de test" } },
});
