// Why a booking or a move failed, in plain words; for a lost race, the nearest free times.
import { ApiError } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { defineStrings, useT } from "../lib/i18n";
import { alternativesOf } from "../lib/scheduling";
import { common } from "../lib/strings";
import { formatLongDate, formatTimeWithZone } from "../lib/time";
import type { Slot } from "../lib/types";
import { Alert } from "./Status";

const strings = defineStrings({
  en: {
    takenTitle: "This time was just taken",
    taken: "Someone booked {time} a moment before you. Here are the nearest free times:",
    takenNone: "Someone booked {time} a moment before you, and no other time is free nearby.",
    pickAlternative: "Choose {time}",
    unavailable: "This time is no longer offered. Pick another time.",
    busy: "You already have an appointment at that time.",
    closed: "This doctor is not taking new patients.",
    tooLate: "It is too late to change this appointment online. Please call the practice.",
  },
  fr: {
    takenTitle: "Cet horaire vient d’être pris",
    taken: "Quelqu’un a réservé {time} juste avant vous. Voici les horaires libres les plus proches :",
    takenNone: "Quelqu’un a réservé {time} juste avant vous, et aucun autre horaire n’est libre à proximité.",
    pickAlternative: "Choisir {time}",
    unavailable: "Cet horaire n’est plus proposé. Choisissez-en un autre.",
    busy: "Vous avez déjà un rendez-vous à cette heure-là.",
    closed: "Ce médecin n’accepte pas de nouveaux patients.",
    tooLate: "Il est trop tard pour modifier ce rendez-vous en ligne. Appelez le cabinet.",
  },
});

export function slotLabel(slot: { start: string }, zone: string): string {
  return `${formatLongDate(slot.start)}, ${formatTimeWithZone(slot.start, zone)}`;
}

interface Props {
  error: unknown;
  slot: Slot;
  zone: string;
  onPick: (slot: Slot) => void;
}

export function BookingProblem({ error, slot, zone, onPick }: Props) {
  const t = useT(strings);
  const tc = useT(common);
  if (error === undefined) return null;
  if (!(error instanceof ApiError)) return <Alert>{errorMessage(error, tc)}</Alert>;
  const type = error.problem.type;
  if (type === "/problems/slot-taken") {
    const alternatives = alternativesOf(error.problem);
    const time = slotLabel(slot, zone);
    return (
      <Alert>
        <h2 class="alert-title">{t("takenTitle")}</h2>
        <p>{alternatives.length ? t("taken", { time }) : t("takenNone", { time })}</p>
        {alternatives.length > 0 && (
          <ul class="alternatives">
            {alternatives.map((alt) => (
              <li key={alt.start}>
                <button type="button" class="btn btn-secondary" onClick={() => onPick(alt)}>
                  {t("pickAlternative", { time: slotLabel(alt, zone) })}
                </button>
              </li>
            ))}
          </ul>
        )}
      </Alert>
    );
  }
  const messages: Record<string, string> = {
    "/problems/slot-unavailable": t("unavailable"),
    "/problems/patient-busy": t("busy"),
    "/problems/new-patients-closed": t("closed"),
    "/problems/too-late": t("tooLate"),
  };
  return <Alert>{(type && messages[type]) ?? errorMessage(error, tc)}</Alert>;
}
