def test_home_page_links_to_sign_up(client):
    html = client.get("/").get_data(as_text=True)
    assert "Sign Up Now" in html and "See Licensing" in html
