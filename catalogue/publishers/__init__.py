"""Publishers: the organisations that publish datasets (``/organisations``) and each one's page
(``/organisations/{id}``, its DCAT-AP IRI), built from what the public sees."""
