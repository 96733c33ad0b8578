// The admin API: users, the doctor verification queue, the audit trail and chain, health, step-up.
import { api, type Query } from "./api";
import type { Role } from "./types";

export interface AdminUser {
  id: string;
  email: string;
  role: Role;
  name: string | null;
  is_active: boolean;
  is_verified: boolean;
  created_at: string;
}

export interface Keyset<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PendingDoctor {
  id: string;
  user_id: string;
  email: string;
  first_name: string;
  last_name: string;
  license_number: string;
  city: string;
  specializations: string[];
  created_at: string;
}

export interface AuditEntry {
  append_id: number;
  seq: number | null;
  id: string;
  occurred_at: string;
  user_id: string | null;
  role: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  ip_address: string | null;
  response_status: number | null;
  hash: string | null;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  head_seq: number;
  unsealed: number;
  reason: string | null;
  summary: string;
}

export interface SystemHealth {
  checked_at: string;
  engines: { name: string; ok: boolean; detail: string }[];
  outbox_pending: number;
  outbox_oldest_age_s: number;
  consumers: { name: string; pending: number; ack_pending: number }[];
  sockets: Record<string, number>;
  audit_unsealed: number;
}

/** The problem type that asks for the password again (health data, every 5 minutes). */
export const STEP_UP_REQUIRED = "/problems/step-up-required";

export const searchUsers = (query: Query): Promise<Keyset<AdminUser>> => api("/admin/users", { query });

export const suspendUser = (id: string, reason: string): Promise<{ user: AdminUser; sockets_closed: number }> =>
  api(`/admin/users/${id}/suspend`, { method: "POST", body: reason ? { reason } : {} });

export const reactivateUser = (id: string): Promise<AdminUser> => api(`/admin/users/${id}/reactivate`, { method: "POST" });

export const changeRole = (id: string, role: Role): Promise<AdminUser> =>
  api(`/admin/users/${id}/role`, { method: "PUT", body: { role } });

export const verificationQueue = (cursor?: string): Promise<Keyset<PendingDoctor>> =>
  api("/admin/verification-queue", { query: { cursor } });

export const verifyDoctor = (id: string): Promise<unknown> => api(`/admin/doctors/${id}/verify`, { method: "POST" });

export const rejectDoctor = (id: string, reason: string): Promise<unknown> =>
  api(`/admin/doctors/${id}/reject`, { method: "POST", body: { reason } });

export const auditTrail = (query: Query): Promise<Keyset<AuditEntry>> => api("/admin/audit", { query });

export const verifyChain = (): Promise<ChainVerification> => api("/admin/audit/verify", { method: "POST" });

export const systemHealth = (): Promise<SystemHealth> => api("/admin/health");

export const stepUp = (password: string): Promise<{ valid_until: string }> =>
  api("/admin/step-up", { method: "POST", body: { password } });
