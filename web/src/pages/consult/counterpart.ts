// Who is on the other side of a consultation, by name: the doctor for the patient, the
// patient for the doctor (read through the appointment both may see).
import { doctorName, getDoctor } from "../../lib/doctors";
import { getPatient } from "../../lib/patients";
import { getAppointment } from "../../lib/scheduling";
import type { CallRole } from "../../lib/teleconsult";

export async function counterpartName(appointmentId: string, role: CallRole, signal: AbortSignal): Promise<string> {
  const appointment = await getAppointment(appointmentId, signal);
  if (role === "doctor") {
    const patient = await getPatient(appointment.patient_id);
    return `${patient.first_name} ${patient.last_name}`;
  }
  return doctorName(await getDoctor(appointment.doctor_id, signal));
}
