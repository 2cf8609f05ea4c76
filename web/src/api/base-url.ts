/**
 * Where the API is: `/api` on this origin (the function app serves the app locally), or the function app's URL when
 * a Static Web Apps site serves the app (the deploy writes it into index.html's `ringlet-api-base` meta tag).
 */
export function apiBaseUrl(): string {
  const configured = document.querySelector<HTMLMetaElement>('meta[name="ringlet-api-base"]')?.content.trim();
  return new URL(configured || "/api", location.origin).href.replace(/\/+$/, "");
}
