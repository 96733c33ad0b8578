import { defineStrings } from "../../lib/i18n";

export const strings = defineStrings({
  en: {
    title: "Dev mailbox",
    intro: "Email and text messages land here when no SMTP server or Twilio account is configured.",
    channel: "Show",
    all: "Everything",
    email: "Email",
    sms: "SMS",
    empty: "No message yet.",
    to: "To {recipient}",
    invite: "Calendar invitation attached",
    refresh: "Refresh",
  },
  fr: {
    title: "Boîte de test",
    intro: "Les e-mails et SMS arrivent ici quand aucun serveur SMTP ni compte Twilio n'est configuré.",
    channel: "Afficher",
    all: "Tout",
    email: "E-mails",
    sms: "SMS",
    empty: "Aucun message pour l'instant.",
    to: "À {recipient}",
    invite: "Invitation d'agenda jointe",
    refresh: "Actualiser",
  },
});
