// The signed-in patient's own profile and medical history.
import { api } from "./api";
import { memoById } from "./memo";
import type { MedicalEntry, Page, PatientProfile } from "./types";

let mine: Promise<PatientProfile> | null = null;

/** The profile rarely changes within a page load; `fresh` re-reads it after an edit. */
export function myPatientProfile(fresh = false): Promise<PatientProfile> {
  if (fresh || !mine) {
    mine = api<PatientProfile>("/patients/me");
    mine.catch(() => (mine = null));
  }
  return mine;
}

export const updatePatient = (id: string, changes: Partial<PatientProfile>): Promise<PatientProfile> =>
  api<PatientProfile>(`/patients/${id}`, { method: "PUT", body: changes }).then((p) => {
    mine = Promise.resolve(p);
    return p;
  });

export const medicalHistory = (patientId: string): Promise<Page<MedicalEntry>> =>
  api<Page<MedicalEntry>>(`/patients/${patientId}/medical-history`, { query: { limit: 200 } });

export const addMedicalEntry = (
  patientId: string,
  entry: { condition: string; diagnosis_date?: string; notes?: string },
): Promise<MedicalEntry> => api<MedicalEntry>(`/patients/${patientId}/medical-history`, { method: "POST", body: entry });

export const getPatient = (id: string): Promise<PatientProfile> => api<PatientProfile>(`/patients/${id}`);

/** Patients named in a doctor's agenda: each fetched once per page load. */
export const patientsById = memoById(getPatient);
