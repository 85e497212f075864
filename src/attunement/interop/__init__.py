"""Exchange with other research tools (ConvoKit)."""
