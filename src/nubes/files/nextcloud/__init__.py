"""Nextcloud client compatibility: status.php, OCS capabilities and user, Login Flow v2, chunked uploads, oc:/nc: props."""
