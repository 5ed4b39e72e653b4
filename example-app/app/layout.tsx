import type { ReactNode } from "react";
import "./globals.css";

export const metadata = { title: "next-db-connect example" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header>
          <a href="/">notes</a> · <a href="/status">status</a>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
