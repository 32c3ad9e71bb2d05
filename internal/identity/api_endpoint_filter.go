package identity

// endpointFilterRoutes is not written yet: its paths answer 404 until it is.
var endpointFilterRoutes = []route{}
