import { useEffect, useState } from "preact/hooks";
import { session, type SessionState } from "../api/session";

/** The session, re-rendering the component when it changes (sign-in, rotation, sign-out). */
export function useSession(): SessionState {
  const [state, setState] = useState(session.get());
  useEffect(() => session.subscribe(() => setState(session.get())), []);
  return state;
}
