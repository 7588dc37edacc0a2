"""Eggs: container templates in the Pterodactyl format (PTDL), their categories and variable rules."""
