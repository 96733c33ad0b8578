import { defineStrings } from "../../lib/i18n";

export const strings = defineStrings({
  en: {
    title: "Doctor verification",
    none: "No doctor is waiting for verification.",
    licence: "Licence number",
    asked: "Asked {date}",
    verify: "Verify",
    reject: "Reject",
    reason: "Reason for rejecting Dr {name} (the doctor sees it)",
    confirmReject: "Reject",
    verified: "Dr {name} is verified: public and bookable.",
    rejected: "Dr {name} is rejected.",
    more: "Show more",
  },
  fr: {
    title: "Vérification des médecins",
    none: "Aucun médecin n’attend de vérification.",
    licence: "Numéro RPPS / licence",
    asked: "Demandé le {date}",
    verify: "Vérifier",
    reject: "Refuser",
    reason: "Motif du refus pour Dr {name} (visible par le médecin)",
    confirmReject: "Refuser",
    verified: "Dr {name} est vérifié : public et réservable.",
    rejected: "Dr {name} est refusé.",
    more: "Afficher plus",
  },
});
