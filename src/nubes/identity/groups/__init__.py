"""Groups of users and the roles they give."""
