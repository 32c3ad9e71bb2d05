package identity

// credentialRoutes is not written yet: its paths answer 404 until it is.
var credentialRoutes = []route{}
