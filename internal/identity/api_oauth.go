package identity

// oauthRoutes is not written yet: its paths answer 404 until it is.
var oauthRoutes = []route{}
