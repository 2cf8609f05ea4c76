import { type WebhookEvent, webhookEvents } from "./admin-types";

/** Check boxes for a webhook's event types; none checked means every event type (as the API reads it). */
export function EventPicker({ value, onChange }: { value: WebhookEvent[]; onChange: (next: WebhookEvent[]) => void }) {
  return (
    <fieldset>
      <legend>Events (none checked: every event)</legend>
      <div class="event-picker">
        {webhookEvents.map((event) => (
          <label key={event}>
            <input type="checkbox" name="eventTypes" value={event} checked={value.includes(event)} onChange={(e) => onChange(e.currentTarget.checked ? [...value, event] : value.filter((x) => x !== event))} />
            {event}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
