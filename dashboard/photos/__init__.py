"""Photos on the pages: uploads, the photo a page looks at, dataset examples and a photo dissected by a layer."""
