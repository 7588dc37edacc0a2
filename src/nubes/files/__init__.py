"""Files: each user's tree of folders and files, its versions, quota, thumbnails, shares, public links and uploads."""
