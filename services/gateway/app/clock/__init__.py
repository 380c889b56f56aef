"""The demo clock (owned by inventory): everyone with a role reads it, the marktmeester moves it."""
