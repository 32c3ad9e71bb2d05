package identity

// domainConfigRoutes is not written yet: its paths answer 404 until it is.
var domainConfigRoutes = []route{}
