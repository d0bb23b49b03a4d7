include(CMakePackageConfigHelpers)

install(TARGETS WsQt EXPORT WsQtTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT WsQtTargets NAMESPACE WsQt::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/WsQt)
configure_package_config_file(cmake/WsQtConfig.cmake.in
        ${CMAKE_CURRENT_BINARY_DIR}/WsQtConfig.cmake
        INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/WsQt)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/WsQtConfigVersion.cmake
        COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/WsQtConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/WsQtConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/WsQt)

configure_file(cmake/WsQt.pc.in ${CMAKE_CURRENT_BINARY_DIR}/WsQt.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/WsQt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
