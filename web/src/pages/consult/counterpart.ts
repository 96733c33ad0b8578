// Who is on the other side of a consultation, by name: the doctor for the patient, the
// patient for the doctor (read through the appointment both may see), and when the video room
// is open (the appointment's join_opens_at / join_closes_at, from the server's settings).
import { doctorName, getDoctor } from "../../lib/doctors";
import { getPatient } from "../../lib/patients";
import { getAppointment } from "../../lib/scheduling";
import type { CallRole } from "../../lib/teleconsult";

export interface JoinWindow {
  opensAt: string;
  closesAt: string;
}

export interface Counterpart {
  name: string;
  joinWindow: JoinWindow | null;
}

export async function counterpartOf(appointmentId: string, role: CallRole, signal: AbortSignal): Promise<Counterpart> {
  const appointment = await getAppointment(appointmentId, signal);
  const { join_opens_at: opensAt, join_closes_at: closesAt } = appointment;
  const joinWindow = opensAt !== null && closesAt !== null ? { opensAt, closesAt } : null;
  if (role === "doctor") {
    const patient = await getPatient(appointment.patient_id);
    return { name: `${patient.first_name} ${patient.last_name}`, joinWindow };
  }
  return { name: doctorName(await getDoctor(appointment.doctor_id, signal)), joinWindow };
}
