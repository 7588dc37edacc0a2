"""Files: the tree of folders and files in each user space, blobs on disk or S3, versions, trash, quotas."""
