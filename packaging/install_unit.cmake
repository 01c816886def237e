# Run by `cmake --install` (packaging/CMakeLists.txt, stint_install_unit): writes one systemd
# unit (or the collector's settings) from its template with the paths of this installation and
# installs it.
# In: CMAKE_INSTALL_PREFIX (the prefix installed to), STINT_UNIT_TEMPLATE, STINT_UNIT_OUT,
# STINT_UNIT_DEST (a folder; CONFDIR: the collector's configuration folder), STINT_BINDIR_REL,
# STINT_SYSCONFDIR_REL (relative: under the prefix, except /usr's, which is /etc).
# Out: the unit in DESTDIR + STINT_UNIT_DEST, listed in install_manifest.txt.
function(stint_under_prefix out path)
  if(IS_ABSOLUTE "${path}")
    set(${out} "${path}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${path}" PARENT_SCOPE)
  endif()
endfunction()

stint_under_prefix(STINT_INSTALL_BINDIR "${STINT_BINDIR_REL}")
# GNUInstallDirs: the configuration of a /usr installation lives in /etc, not /usr/etc
if(NOT IS_ABSOLUTE "${STINT_SYSCONFDIR_REL}" AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(STINT_INSTALL_CONFDIR "/${STINT_SYSCONFDIR_REL}/stint-collector")
else()
  stint_under_prefix(STINT_INSTALL_CONFDIR "${STINT_SYSCONFDIR_REL}")
  set(STINT_INSTALL_CONFDIR "${STINT_INSTALL_CONFDIR}/stint-collector")
endif()
if(STINT_UNIT_DEST STREQUAL "CONFDIR")
  set(dest "${STINT_INSTALL_CONFDIR}")
else()
  stint_under_prefix(dest "${STINT_UNIT_DEST}")
endif()
configure_file("${STINT_UNIT_TEMPLATE}" "${STINT_UNIT_OUT}" @ONLY)
file(INSTALL "${STINT_UNIT_OUT}" DESTINATION "${dest}")
