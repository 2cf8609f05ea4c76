import { Page } from "../../components/Page";
import { useSession } from "../../lib/use-session";
import { DataExport } from "./account/DataExport";
import { NotificationSettings } from "./account/NotificationSettings";
import { PasswordChange } from "./account/PasswordChange";
import { Profile } from "./account/Profile";
import { Sessions } from "./account/Sessions";
import { TwoFactor } from "./account/TwoFactor";

/** The account: profile, password, sessions, two-factor sign-in, notifications and a copy of my data. */
export default function Account() {
  const { user } = useSession();
  if (!user) return null;
  return (
    <Page title="Your account">
      <Profile user={user} />
      <PasswordChange />
      <Sessions />
      <TwoFactor />
      <NotificationSettings />
      <DataExport />
    </Page>
  );
}
