import { useSession } from "../../lib/use-session";
import { Page } from "../../components/Page";

/** The start page: a welcome for visitors; the learner's dashboard once signed in. */
export default function Home() {
  const { user } = useSession();
  return (
    <Page title={user ? `Welcome, ${user.displayName}` : "Welcome to Ringlet"}>
      {user ? (
        <p>
          Find a course in the <a href="/courses">catalog</a>.
        </p>
      ) : (
        <p>
          <a href="/sign-in">Sign in</a> or <a href="/register">create an account</a> to enroll in courses.
        </p>
      )}
    </Page>
  );
}
