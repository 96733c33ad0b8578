// The patient's waitlist: join for a doctor (?doctor=<id>) or for any doctor of a specialty in a
// city (?specialty=<code>&city=<name>, from search), see each entry, and answer an offer
// (a slot held for a few minutes, with a countdown) live: the /notifications socket says when
// one arrives. A patient who manages relatives chooses for whom they join ("For whom"), and sees
// and answers their relatives' entries beside their own.
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { slotLabel } from "../../components/BookingProblem";
import { doctorName, doctorsById, specializations, specialtyName } from "../../lib/doctors";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { myRelatives, type Relative } from "../../lib/relatives";
import { openSocket } from "../../lib/socket";
import { common } from "../../lib/strings";
import { addDays, dayKey, formatDateTime, formatDay, startOfDay } from "../../lib/time";
import type { Doctor, Specialization, VisitType } from "../../lib/types";
import {
  acceptOffer,
  declineOffer,
  joinWaitlist,
  leaveWaitlist,
  myWaitlist,
  type Offer,
  type WaitlistEntry,
} from "../../lib/waitlist";
import { strings } from "./strings";

function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

// Whom an entry is for: "" for the signed-in patient themself, else a relative's id.
type Who = string;
const fullName = (r: Relative) => `${r.first_name} ${r.last_name}`;
const relativeOf = (entry: WaitlistEntry, relatives: readonly Relative[]) => relatives.find((r) => r.id === entry.patient_id);

function OfferPanel({
  offer,
  doctor,
  forName,
  onDone,
}: {
  offer: Offer;
  doctor: Doctor | undefined;
  forName: string | undefined;
  onDone: (booked: boolean) => void;
}) {
  const t = useT(strings);
  const now = useNow();
  const left = Math.max(0, Math.floor((Date.parse(offer.expires_at) - now) / 1000));
  const accept = useAction(async () => {
    await acceptOffer(offer.id);
    onDone(true);
  });
  const decline = useAction(async () => {
    await declineOffer(offer.id);
    onDone(false);
  });
  const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  return (
    <div class="card offer" data-testid="offer">
      <p>
        <strong>
          {doctor
            ? forName
              ? t("offerForWith", { name: forName, doctor: doctorName(doctor), start: slotLabel(offer, doctor.time_zone) })
              : t("offerWith", { doctor: doctorName(doctor), start: slotLabel(offer, doctor.time_zone) })
            : forName
              ? t("offerForTitle", { name: forName, start: formatDateTime(offer.start) })
              : t("offerTitle", { start: formatDateTime(offer.start) })}
        </strong>
      </p>
      <p role="timer" aria-live="off">
        {t("countdown", { left: clock })}
      </p>
      {(accept.error || decline.error) && <ErrorView error={accept.error ?? decline.error} />}
      <Button onClick={() => void accept.run()} busy={accept.busy} busyLabel={t("accepting")} disabled={left === 0}>
        {t("accept")}
      </Button>{" "}
      <Button variant="secondary" onClick={() => void decline.run()} busy={decline.busy}>
        {t("decline")}
      </Button>
    </div>
  );
}

function EntryItem({
  entry,
  forName,
  specialties,
  onChange,
}: {
  entry: WaitlistEntry;
  forName: string | undefined;
  specialties: readonly Specialization[] | undefined;
  onChange: (booked: boolean) => void;
}) {
  const t = useT(strings);
  // Whose slot: the doctor waited for, or the one an area entry's offer comes from.
  const doctorId = entry.offer?.doctor_id ?? entry.doctor_id;
  const doctors = useAsync(() => (doctorId ? doctorsById([doctorId]) : Promise.resolve(null)), [doctorId]);
  const doctor = doctorId ? doctors.data?.get(doctorId) : undefined;
  const leave = useAction(async () => {
    await leaveWaitlist(entry.id);
    onChange(false);
  });
  return (
    <li class="card">
      {forName && <p class="entry-for">{t("forRelative", { name: forName })}</p>}
      <p>
        {entry.doctor_id === null && (
          <strong>
            {t("anyDoctor", { specialty: specialtyName(specialties, entry.specialty ?? ""), place: entry.city ?? t("nearby") })}{" "}
          </strong>
        )}
        {entry.doctor_id !== null && doctor && <strong>{t("withDoctor", { doctor: doctorName(doctor) })} </strong>}
        {t("waitingUntil", { until: formatDay(entry.latest) })}
      </p>
      {entry.offer && <OfferPanel offer={entry.offer} doctor={doctor} forName={forName} onDone={onChange} />}
      {leave.error !== undefined && <ErrorView error={leave.error} />}
      <Button variant="link" onClick={() => void leave.run()} busy={leave.busy}>
        {t("leave")}
      </Button>
    </li>
  );
}

interface Target {
  doctor_id?: string;
  specialty?: string;
  city?: string;
}

function JoinForm({
  target,
  choices,
  specialties,
  onJoined,
}: {
  target: Target;
  /** Who may still join this waitlist (shown as "For whom" when the patient has relatives). */
  choices: readonly { value: Who; label: string }[] | null;
  specialties: readonly Specialization[] | undefined;
  onJoined: (forName: string | undefined) => void;
}) {
  const t = useT(strings);
  const tc = useT(common);
  const [chosen, setChosen] = useState<Who>("");
  // Once the chosen person joined, the next one still free is preselected.
  const who = choices?.find((c) => c.value === chosen) ?? choices?.[0];
  const [visitType, setVisitType] = useState<VisitType>("in-person");
  // The viewer's local day (not UTC's: late in the evening east of Greenwich it is tomorrow).
  const [until, setUntil] = useState(() => dayKey(addDays(startOfDay(new Date()), 14)));
  const [fromTime, setFromTime] = useState("");
  const join = useAction(async () => {
    await joinWaitlist({
      ...target,
      ...(who?.value ? { patient_id: who.value } : {}),
      visit_type: visitType,
      earliest: new Date().toISOString(),
      latest: new Date(`${until}T23:59:59`).toISOString(),
      ...(fromTime ? { day_from: fromTime } : {}),
    });
    onJoined(who?.value ? who.label : undefined);
  });
  return (
    <form
      class="card"
      aria-labelledby="join-title"
      onSubmit={(event) => {
        event.preventDefault();
        void join.run();
      }}
    >
      <h2 id="join-title">
        {target.specialty
          ? t("joinAreaTitle", { specialty: specialtyName(specialties, target.specialty), place: target.city ?? "" })
          : t("joinTitle")}
      </h2>
      <p class="hint">{t("joinHint")}</p>
      {choices && who && (
        <SelectField
          label={t("forWhom")}
          name="for_whom"
          value={who.value}
          onValue={setChosen}
          options={choices}
        />
      )}
      <SelectField
        label={t("visitType")}
        name="visit_type"
        value={visitType}
        onValue={(v) => setVisitType(v as VisitType)}
        options={[
          { value: "in-person", label: tc("inPerson") },
          { value: "teleconsultation", label: tc("teleconsultation") },
        ]}
      />
      <TextField label={t("until")} type="date" name="until" value={until} onValue={setUntil} required />
      <TextField label={t("fromTime")} type="time" name="day_from" value={fromTime} onValue={setFromTime} />
      {join.error !== undefined && <ErrorView error={join.error} />}
      <Button type="submit" busy={join.busy} busyLabel={t("joining")}>
        {t("join")}
      </Button>
    </form>
  );
}

export default function WaitlistPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const { query } = useLocation();
  const entries = useAsync((signal) => myWaitlist(signal), []);
  // Relatives the patient manages: each may be put on a waitlist too.
  const relatives = useAsync(() => myRelatives().catch((): Relative[] => []), []);
  // Specialty codes are shown by their name in the reader's language.
  const specialties = useAsync(() => specializations().catch(() => []), []);
  const [booked, setBooked] = useState(false);
  const [joined, setJoined] = useState<{ forName: string | undefined } | null>(null);
  const reload = entries.reload;
  const target: Target | null = query.doctor
    ? { doctor_id: query.doctor }
    : query.specialty && query.city
      ? { specialty: query.specialty, city: query.city }
      : null;
  const people = relatives.data ?? [];
  // Who already waits there is not offered again (the server would say already-waiting).
  const waiting = new Set<Who>(
    (entries.data ?? [])
      .filter(
        (e) =>
          target !== null &&
          (target.doctor_id
            ? e.doctor_id === target.doctor_id
            : e.doctor_id === null && e.specialty === target.specialty && e.city === target.city),
      )
      .map((e) => relativeOf(e, people)?.id ?? ""),
  );
  const everyone = [{ value: "", label: t("myself") }, ...people.map((r) => ({ value: r.id, label: fullName(r) }))];
  const free = everyone.filter((c) => !waiting.has(c.value));
  const already = target !== null && free.length === 0;
  useEffect(() => {
    const socket = openSocket("/notifications");
    socket.on("notification", (note: { kind: string }) => {
      if (note.kind === "waitlist.offered") reload();
    });
    return () => void socket.close();
  }, []);

  return (
    <section class="page" aria-labelledby="waitlist-title">
      <h1 id="waitlist-title">{t("title")}</h1>
      {booked && (
        <Alert tone="success">
          {t("booked")} <a href="/appointments">{t("myAppointments")}</a>
        </Alert>
      )}
      {joined && <Alert tone="success">{joined.forName ? t("joinedFor", { name: joined.forName }) : t("joined")}</Alert>}
      {target && already && !joined && <Alert tone="info">{t("already")}</Alert>}
      {target && !already && entries.data && relatives.data && !(joined && entries.loading) && (
        <JoinForm
          target={target}
          choices={people.length > 0 ? free : null}
          specialties={specialties.data}
          onJoined={(forName) => {
            setJoined({ forName });
            reload();
          }}
        />
      )}
      {entries.loading && !entries.data && <Loading />}
      {entries.error !== undefined && <ErrorView error={entries.error} onRetry={reload} />}
      {entries.data?.length === 0 && <Empty>{t("empty")}</Empty>}
      <ul class="plain-list">
        {entries.data?.map((entry) => (
          <EntryItem
            key={entry.id}
            entry={entry}
            forName={(() => {
              const relative = relativeOf(entry, people);
              return relative && fullName(relative);
            })()}
            specialties={specialties.data}
            onChange={(wasBooked) => {
              setBooked(wasBooked);
              reload();
            }}
          />
        ))}
      </ul>
    </section>
  );
}
