"use client";

// connect() rejects with DatabaseUnavailableError while the database is down;
// this boundary shows that instead of a stack trace.
export default function DatabaseError({ reset }: { error: Error; reset: () => void }) {
  return (
    <>
      <h1>The database is unavailable</h1>
      <p>The page will work again as soon as the database is back.</p>
      <button onClick={reset}>Try again</button>
    </>
  );
}
