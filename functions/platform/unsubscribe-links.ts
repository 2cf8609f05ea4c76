import type { EmailLinks } from "../../domain/notifications/notifications-for-event.js";
import { type NotificationCategory, notificationCategories } from "../../domain/notifications/preferences.js";
import type { Settings } from "./settings.js";
import { signedLinks } from "./signed-links.js";

/**
 * One-click unsubscribe links (RFC 8058): a JWT naming the user and the category, signed with the access-token
 * keys (no new secret to provision, and key rotation by `kid` carries over), under a `typ` and an audience of its
 * own so that it can never pass as an access token (that check wants the API audience) nor an access token as it.
 * Long-lived, as mail is read late; the worst a leaked link does is turn one category of mail off.
 */
export interface UnsubscribeLinks {
  url(userId: string, category: NotificationCategory): Promise<string>;
  /** The user and category a token names; null when it is forged, expired or not an unsubscribe token. */
  verify(token: string): Promise<{ userId: string; category: NotificationCategory } | null>;
}

const links = signedLinks<{ userId: string; category: NotificationCategory }>({
  typ: "ringlet-unsubscribe+jwt",
  audience: "unsubscribe",
  lifetime: "365d",
  path: "/v1/unsubscribe",
  claim: "cat",
  write: ({ userId, category }) => ({ subject: userId, claim: category }),
  read: (userId, cat) => {
    const category = notificationCategories.find((c) => c === cat);
    return category ? { userId, category } : null;
  },
});

/** Built once per settings object (per instance): keys are imported once. */
export async function unsubscribeLinks(s: Settings): Promise<UnsubscribeLinks> {
  const signed = await links(s);
  return { url: (userId, category) => signed.url({ userId, category }), verify: (token) => signed.verify(token) };
}

/** The domain's side of it: the link for a user and category in the emails it composes. */
export async function emailUnsubscribeLinks(s: Settings): Promise<Pick<EmailLinks, "unsubscribeUrl">> {
  const links = await unsubscribeLinks(s);
  return { unsubscribeUrl: (userId, category) => links.url(userId, category) };
}
