import { describe, expect, it } from "vitest";
import { composeEmail } from "../../../domain/notifications/compose-email.js";
import { templates } from "../../../domain/notifications/templates.js";

describe("composing emails", () => {
  it("fills the template in the recipient's language", () => {
    const email = composeEmail("waitlisted", "es", "ana@example.test", { name: "Ana", course: "Rust", position: "3", appUrl: "https://app.example" });
    expect(email).toMatchObject({ to: "ana@example.test", locale: "es", subject: "Estás en la lista de espera de Rust" });
    expect(email.text).toContain("Eres el número 3");
  });

  it("falls back to the base language, then to English", () => {
    expect(composeEmail("welcome", "es-MX", "a@b.c", { name: "A", appUrl: "https://x" }).locale).toBe("es");
    expect(composeEmail("welcome", "fi", "a@b.c", { name: "A", appUrl: "https://x" }).locale).toBe("en");
  });

  it("escapes values in the HTML part and encodes them in links", () => {
    const email = composeEmail("invitation", "en", "a@b.c", { course: "<script>alert(1)</script>", token: "a b&c", expiresAt: "soon", appUrl: "https://app.example/" });
    expect(email.html).not.toContain("<script>");
    expect(email.html).toContain("&lt;script&gt;");
    expect(email.text).toContain("https://app.example/invitations/accept?token=a%20b%26c");
  });

  it("keeps subjects on one line whatever the values hold", () => {
    expect(composeEmail("enrolled", "en", "a@b.c", { name: "x", course: "A\r\nBcc: evil@x", courseId: "1", appUrl: "https://x" }).subject).not.toMatch(/[\r\n]/);
  });

  it("has every template in English", () => {
    for (const t of Object.values(templates)) expect(t.en.subject).toBeTruthy();
  });
});
