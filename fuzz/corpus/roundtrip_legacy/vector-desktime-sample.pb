
^zDK!:`Âğ1.0.4289ØÃÖŸ&*lˆ´ÖŸ& *firefox2\Mozilla Firefox\firefox.exe:,jQuery UI - Datepicker Demos & DocumentationBjqueryui.com