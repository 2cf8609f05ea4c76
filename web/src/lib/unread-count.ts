import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";

const changed = "ringlet:inbox-changed";

/** Tells the header's count that the inbox changed here (marked read): it asks again at once. */
export function inboxChanged(): void {
  window.dispatchEvent(new Event(changed));
}

/**
 * How many of the signed-in user's notifications are unread, for the header: asked on each page change, when this
 * tab marks some read, and every minute while the tab is shown. null while unknown, signed out, or refused (a
 * session that still owes its second factor): the header then shows no count rather than a wrong one.
 */
export function useUnreadCount(signedIn: boolean, url: string): number | null {
  const [count, setCount] = useState<number | null>(null);
  useEffect(() => {
    if (!signedIn) {
      setCount(null);
      return;
    }
    let live = true;
    // Only the latest answer counts: an earlier ask answered after a later one would show a stale count.
    let asked = 0;
    const ask = async () => {
      const mine = ++asked;
      const inbox = await api.GET("/v1/me/notifications", { params: { query: { limit: 1, unread: "true" } } }).catch(() => null);
      if (live && mine === asked) setCount(inbox?.data ? inbox.data.unreadCount : null);
    };
    void ask();
    const onShow = () => {
      if (document.visibilityState === "visible") void ask();
    };
    const timer = setInterval(onShow, 60_000);
    window.addEventListener(changed, ask);
    document.addEventListener("visibilitychange", onShow);
    return () => {
      live = false;
      clearInterval(timer);
      window.removeEventListener(changed, ask);
      document.removeEventListener("visibilitychange", onShow);
    };
  }, [signedIn, url]);
  return count;
}
