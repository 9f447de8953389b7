"""Trips: webhook events from phones, assembled into drives, measured, labelled and served."""
