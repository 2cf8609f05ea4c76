import { useEffect, useState } from "preact/hooks";

/** Spoken once each as the deadline nears (a countdown read every second would drown everything else). */
const warnings = [
  { seconds: 300, text: "5 minutes left" },
  { seconds: 60, text: "1 minute left" },
];

/**
 * Seconds left until the server's deadline, by the server's clock: `skewMs` (server time minus this machine's,
 * from the answer's Date header) corrects a local clock that is off. `announcement` changes only at the warnings.
 */
export function useCountdown(deadlineAt: string | null, skewMs: number): { secondsLeft: number | null; announcement: string } {
  const left = () => (deadlineAt ? (Date.parse(deadlineAt) - (Date.now() + skewMs)) / 1000 : null);
  const [secondsLeft, setSecondsLeft] = useState(left);
  const [announcement, setAnnouncement] = useState("");
  useEffect(() => {
    if (!deadlineAt) return;
    // A warning already passed when the page opened is not spoken again.
    let spoken = warnings.filter((w) => (left() ?? 0) <= w.seconds).length;
    const tick = () => {
      const now = left();
      setSecondsLeft(now);
      if (now == null) return;
      if (now <= 0) setAnnouncement("Time is up");
      else if (spoken < warnings.length && now <= (warnings[spoken]?.seconds ?? 0)) {
        while (spoken < warnings.length && now <= (warnings[spoken]?.seconds ?? 0)) spoken++;
        setAnnouncement(warnings[spoken - 1]?.text ?? "");
      }
    };
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, [deadlineAt, skewMs]);
  return { secondsLeft, announcement };
}

/** Server time minus local time, from a response's Date header (0 when it has none). */
export function clockSkew(response: Response | undefined): number {
  const date = response?.headers.get("date");
  const server = date ? Date.parse(date) : NaN;
  return Number.isNaN(server) ? 0 : server - Date.now();
}
