"""Accounts, sign-in and the admin's user management."""
