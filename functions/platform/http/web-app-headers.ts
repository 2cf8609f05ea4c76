/**
 * The web app's security headers, the same wherever it is served: by the static-files function locally
 * (functions/http/web-app.ts) and by Azure Static Web Apps (web/public/staticwebapp.config.json, whose copy a test
 * compares with this one).
 */

/**
 * No inline script or style: everything the app runs is a file of its own build. The Blob endpoint is named
 * because the browser talks to it directly: uploads PUT to SAS URLs, and downloads (images, videos, PDFs in
 * frames) load from them. The API's origin is named where the API is not on the app's own origin (Azure: the
 * Static Web Apps site calls the function app).
 */
export function webAppCsp(blobOrigin: string, apiOrigin?: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${blobOrigin}`,
    `media-src 'self' ${blobOrigin}`,
    `connect-src 'self' ${blobOrigin}${apiOrigin ? ` ${apiOrigin}` : ""}`,
    `frame-src ${blobOrigin}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Headers besides the CSP (nosniff and the referrer policy come from withSecurityHeaders, as on the API). */
export const WEB_APP_HEADERS: Readonly<Record<string, string>> = {
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
  "cross-origin-opener-policy": "same-origin",
};

export const CACHE_IMMUTABLE = "public, max-age=31536000, immutable";
// The index names the current build's hashed files: revalidated on every load, so a deploy is seen at once.
export const CACHE_REVALIDATE = "no-cache";
export const CACHE_SHORT = "public, max-age=3600";
