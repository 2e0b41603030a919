// Typed calls of the outbound webhook endpoints: subscriptions to the workspace's events and the
// deliveries of everything Cadre posts out (src/Cadre.Server/Triggers/WebhookSubscriptionEndpoints.cs,
// docs/workflows.md "Outbound webhooks").
import { http, type Page } from "./client";
import type { Actor } from "./types";

const ws = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;
const id = (value: string) => encodeURIComponent(value);

export interface WebhookSubscription {
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  isActive: boolean;
  version: number;
  /** The `whsec_…` signing secret, only in the answer to create and rotate-secret. */
  secret: string | null;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookSubscriptionRequest {
  url?: string;
  eventTypes?: string[];
  description?: string;
  isActive?: boolean;
}

export type DeliveryStatus = "pending" | "delivered" | "dead";
export const deliveryStatuses: DeliveryStatus[] = ["pending", "delivered", "dead"];

export interface WebhookAttempt {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  /** The first KiB of the receiver's answer. */
  response: string | null;
}

export interface WebhookDelivery {
  id: string;
  subscriptionId: string | null;
  workflowId: string | null;
  runId: string | null;
  eventId: string | null;
  url: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** Only in the single delivery's answer. */
  payload: unknown;
  attemptLog: WebhookAttempt[] | null;
}

export interface DeliveryFilters {
  status?: string;
  subscription?: string;
  eventType?: string;
}

export const webhooksApi = {
  subscriptions: (workspace: string, link: string | null, signal?: AbortSignal) =>
    link ? http.get<Page<WebhookSubscription>>(link, { signal }) : http.get<Page<WebhookSubscription>>(`${ws(workspace)}/webhook-subscriptions`, { query: { limit: 50 }, signal }),
  create: (workspace: string, body: WebhookSubscriptionRequest) => http.post<WebhookSubscription>(`${ws(workspace)}/webhook-subscriptions`, body),
  update: (workspace: string, subscription: WebhookSubscription, body: WebhookSubscriptionRequest) =>
    http.patch<WebhookSubscription>(`${ws(workspace)}/webhook-subscriptions/${id(subscription.id)}`, body, { headers: { "If-Match": `"${subscription.version}"` } }),
  rotateSecret: (workspace: string, subscription: WebhookSubscription) =>
    http.post<WebhookSubscription>(`${ws(workspace)}/webhook-subscriptions/${id(subscription.id)}/rotate-secret`, {}),
  remove: (workspace: string, subscription: WebhookSubscription) => http.delete<void>(`${ws(workspace)}/webhook-subscriptions/${id(subscription.id)}`),

  deliveries: (workspace: string, filters: DeliveryFilters, link: string | null, signal?: AbortSignal) =>
    link
      ? http.get<Page<WebhookDelivery>>(link, { signal })
      : http.get<Page<WebhookDelivery>>(`${ws(workspace)}/deliveries`, {
        query: { limit: 50, status: filters.status || undefined, subscription: filters.subscription || undefined, eventType: filters.eventType || undefined }, signal,
      }),
  delivery: (workspace: string, delivery: string, signal?: AbortSignal) => http.get<WebhookDelivery>(`${ws(workspace)}/deliveries/${id(delivery)}`, { signal }),
  redeliver: (workspace: string, delivery: string) => http.post<WebhookDelivery>(`${ws(workspace)}/deliveries/${id(delivery)}/redeliver`, {}),
};
