"""The Data API console for businesses: sign-up, keys, plan and quota, usage, invoices, try-it."""
