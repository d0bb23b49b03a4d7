# The API reference: `cmake --build build --target docs` runs Doxygen over the
# public headers (WSQT_PUBLIC_HEADERS of src/wsqt) into build/doc/api/html.
# Not part of ALL. An undocumented public member, or any other Doxygen
# warning, fails the target. Without Doxygen there is no docs target.
if(NOT WSQT_BUILD_DOCS)
    return()
endif()

find_package(Doxygen)
if(NOT DOXYGEN_FOUND)
    message(STATUS "Doxygen not found: no docs target (the API reference)")
    return()
endif()

get_directory_property(_wsqt_public_headers DIRECTORY src/wsqt DEFINITION WSQT_PUBLIC_HEADERS)
list(TRANSFORM _wsqt_public_headers PREPEND "\"${PROJECT_SOURCE_DIR}/src/wsqt/")
list(TRANSFORM _wsqt_public_headers APPEND "\"")
list(JOIN _wsqt_public_headers " " WSQT_DOXYGEN_INPUT)

# FAIL_ON_WARNINGS (Doxygen 1.9+) reports every warning, then fails.
if(DOXYGEN_VERSION VERSION_LESS 1.9)
    set(WSQT_DOXYGEN_WARN_AS_ERROR YES)
else()
    set(WSQT_DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
endif()
set(WSQT_DOCS_OUTPUT ${PROJECT_BINARY_DIR}/doc/api)
configure_file(doc/Doxyfile.in ${PROJECT_BINARY_DIR}/doc/Doxyfile @ONLY)

add_custom_target(docs
    COMMAND ${DOXYGEN_EXECUTABLE} ${PROJECT_BINARY_DIR}/doc/Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Generating the API reference in ${WSQT_DOCS_OUTPUT}/html"
    VERBATIM)
